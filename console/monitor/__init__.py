"""The monitor: one watch per node, the balancer and metrics polls, feeding observations into the
cluster state.
"""
