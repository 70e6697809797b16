"""The one balancer client (`clients.open_balancer`) whatever the kind (httpd, HAProxy, NGINX,
NGINX Plus), and the balancer's own configuration file.
"""
