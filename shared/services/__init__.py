"""Domain logic: plain functions and classes that take a Database or a Session."""
