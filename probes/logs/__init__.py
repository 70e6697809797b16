"""Log events: parsers for Tomcat, WSO2 Carbon, Hazelcast and JGroups lines, and the scanner."""
