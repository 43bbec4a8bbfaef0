"""The paperwork: a case's official forms (1-KNĐ … 20-KNĐ) and the facts they print."""
