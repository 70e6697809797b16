"""The command line: the parser, one module per subcommand, and the output that survives a closed
pipe.
"""
