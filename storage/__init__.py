"""LevelDB persistence for chaintop: key schema, atomic batches, the chain store, the data-dir lock."""
