"""The wizards themselves, each declaring its questions and steps (see console.operations.catalog
for the list).
"""
