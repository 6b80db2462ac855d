"""Pictures: the figures of one network, of the studies, and the one-file HTML report."""
