"""Reads shared by the pages and the API: the case list, the case page, dashboards, tasks."""
