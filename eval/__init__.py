"""planqa's evaluation harness: gold questions in, scored report out (`planqa eval`)."""
