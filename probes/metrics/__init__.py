"""A node's figures: Tomcat's manager application (status, JMX proxy) and what SSH reads of the JVM
without it.
"""
