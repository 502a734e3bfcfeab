// Placeholder: AWS HTTP transport.
