from django.apps import AppConfig


class PeerDjangoConfig(AppConfig):
    name = "bench.peer_django"
    label = "peer_django"
