"""Peer-to-peer networking over ZeroMQ: transport, wire messages, peers, gossip and sync."""
