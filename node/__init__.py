"""The node service: orchestrator, miner, validator duties, service loops, RPC server and client,
maintenance."""
