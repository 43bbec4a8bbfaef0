"""A minimal Django app for the peer benchmark (bench/peers.py): one FSM model."""
