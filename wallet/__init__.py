"""Client-side key custody: the encrypted keystore (wallet.keystore), beside the node rather than inside it.

Why a package of its own: the keystore is a JSON file of scrypt + ChaCha20-Poly1305 encrypted seeds in the
data dir, read and written by the CLI (keys, offline signing) whether or not a node is running; it never
touches LevelDB, so it does not belong in storage/, and the node never holds a user's keys (it signs only
with the public dev keys), so it does not belong in node/. It depends on chain/ alone, and the front ends
may import it (see the import-linter contracts in pyproject.toml).
"""
