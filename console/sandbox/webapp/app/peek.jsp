<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %><%--
  clusterconsole sandbox app: what this node holds of a session, named by `?id=`, read through
  its session manager's MBean (DeltaManager's getSessionAttribute) in this JVM. The request
  carries no session cookie, so nothing is created or changed, and JvmRouteBinderValve does not
  rename the session (a peek with the cookie renamed a copy whose attribute was still on its way
  from the node that made it, and the attribute then never arrived under the new id).
--%><%
  String id = request.getParameter("id");
  String count = null;
  if (id != null && id.matches("[A-Za-z0-9._-]{1,128}")) {
    javax.management.ObjectName manager = new javax.management.ObjectName(
        "Catalina:type=Manager,host=localhost,context=" + request.getContextPath());
    count = (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
        manager, "getSessionAttribute", new Object[] {id, "count"},
        new String[] {"java.lang.String", "java.lang.String"});
  }
  out.print("node=" + System.getProperty("sandbox.jvmRoute") + " session="
      + (id == null ? "none" : id) + " count=" + (count == null ? 0 : count) + "\n");
%>
