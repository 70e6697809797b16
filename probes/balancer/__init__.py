"""Load balancers: the one worker model, httpd's balancer-manager (page, XML, changes) and HAProxy
(stats CSV, runtime API).
"""
