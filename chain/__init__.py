"""chaintop's consensus core: pure state and rule logic, no I/O outside chain.node."""
