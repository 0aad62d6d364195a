"""The node service: orchestrator, miner, and (soon) RPC."""
