"""planqa service: cited answers over HTTP, the chat page and the command line."""
