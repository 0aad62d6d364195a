"""Consensus engines: proof-of-work today, proof-of-stake and finality to come."""
