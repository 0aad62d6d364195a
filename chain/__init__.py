"""chaintop's consensus core: pure state and rule logic, no threads, sockets, files or storage."""
