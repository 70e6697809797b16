/*
 * clusterconsole sandbox (frevvo variant): the application's own cluster, as frevvo has one.
 *
 * When the app starts, it joins the JGroups channel "sandbox" over TCP with the other nodes
 * listed in the system property sandbox.jgroups.hosts (TCPPING, no multicast, loopback only);
 * when the app stops (unloadDelay passed), it leaves the channel, so the peers install a new view
 * at once. Every view installed is logged at INFO through java.util.logging (catalina.out):
 *
 *   ... INFO [...] sandbox.SandboxJGroups.viewAccepted Received new cluster view for channel
 *       sandbox: [vm-5408|2] (2) [vm-5408, vm-34711]
 *
 * The view is printed the way JGroups 3.x and later print a View ([coordinator|id] (size)
 * [members]); Debian 12's JGroups 2.12 prints it without the size. The channel is given no name:
 * each member has JGroups' default logical name (the machine's host name, a dash, a random
 * number), as an application that names nothing has, and every node is on one machine here, so
 * the names alone cannot tell the nodes apart. GMS prints its banner when the channel connects
 * (print_local_addr), "GMS: address=vm-5408, cluster=sandbox, physical address=...", to stdout
 * (catalina.out): that is how the console tells which node a member is.
 */
package sandbox;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.ReceiverAdapter;
import org.jgroups.View;

@WebListener
public class SandboxJGroups implements ServletContextListener {
    private static final Logger LOG = Logger.getLogger(SandboxJGroups.class.getName());
    private static final String CLUSTER = "sandbox";
    private JChannel channel;

    private static String protocols(String bind, String port, String hosts) {
        return "TCP(bind_addr=" + bind + ";bind_port=" + port + ";port_range=0"
            + ";loopback=true;enable_diagnostics=false)"
            + ":TCPPING(initial_hosts=" + hosts + ";port_range=0;timeout=2000;num_initial_members="
            + hosts.split(",").length + ")"
            + ":MERGE2(min_interval=5000;max_interval=10000)"
            + ":FD_SOCK(bind_addr=" + bind + ")"
            + ":FD(timeout=3000;max_tries=3)"
            + ":VERIFY_SUSPECT(timeout=1500)"
            + ":pbcast.NAKACK(use_mcast_xmit=false;retransmit_timeout=300,600,1200;discard_delivered_msgs=true)"
            + ":UNICAST(timeout=300,600,1200)"
            + ":pbcast.STABLE(stability_delay=1000;desired_avg_gossip=50000;max_bytes=400000)"
            + ":pbcast.GMS(join_timeout=3000;print_local_addr=true;view_bundling=true)"
            + ":FRAG2(frag_size=60000)";
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        String bind = System.getProperty("sandbox.jgroups.bind");
        String port = System.getProperty("sandbox.jgroups.port", "7800");
        String hosts = System.getProperty("sandbox.jgroups.hosts");
        if (bind == null || hosts == null) {
            LOG.warning("sandbox.jgroups.bind or sandbox.jgroups.hosts not set: no JGroups channel");
            return;
        }
        try {
            JChannel joined = new JChannel(protocols(bind, port, hosts));
            joined.setReceiver(new ReceiverAdapter() {
                @Override
                public void viewAccepted(View view) {
                    StringBuilder members = new StringBuilder();
                    for (Address member : view.getMembers()) {
                        members.append(members.length() == 0 ? "" : ", ").append(member);
                    }
                    LOG.info("Received new cluster view for channel " + CLUSTER + ": "
                        + view.getVid() + " (" + view.size() + ") [" + members + "]");
                }
            });
            joined.connect(CLUSTER);
            channel = joined;
        } catch (Exception e) {
            LOG.log(Level.SEVERE, "could not join the JGroups channel " + CLUSTER, e);
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (channel != null) {
            LOG.info("leaving the JGroups channel " + CLUSTER);
            channel.close();
            channel = null;
        }
    }
}
