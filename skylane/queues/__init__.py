"""The queues seen from outside: their statistics and their dead letters."""
