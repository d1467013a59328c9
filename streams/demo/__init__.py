"""`streamrec demo`: the whole system in one command, closing the loop on a shifting stream."""
