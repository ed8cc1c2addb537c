"""The local stack: emulator, template deploy, and the processes that `make up` runs."""
