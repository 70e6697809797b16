"""`clusterconsole doctor`: the misconfigurations the clustering guides warn about.

Pure check functions (checks_*.py) over facts gathered from every node (run.py); one module per
group of checks, each registered with a stable id in model.REGISTRY.
"""

from console.doctor import checks_data, checks_host, checks_tomcat, checks_wso2  # noqa: F401
