"""Per-node licenses as the monitor and the doctor see them: the system key remembered at
activation, the license page's poll and the problems it raises.
"""
