"""Task workflows on ERNIE-M: pre- and post-processing that transformers 5 no longer ships."""
