"""Universal Information Extraction (UIE-M) with ERNIE-M."""
