"""The cluster as the console sees it: observations in, one state snapshot out, and the cross-
checks that turn it into problems.
"""
