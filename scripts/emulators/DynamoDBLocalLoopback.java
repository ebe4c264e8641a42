// DynamoDBLocalLoopback starts the official DynamoDB Local server bound to one address (127.0.0.1
// by default) instead of every interface: DynamoDB Local has no -host option, and an emulator that
// accepts any credentials must not be reachable from the network.
//
// Run in Java's source-file mode with the DynamoDB Local jar on the class path:
//
//	java -Dorderhub.host=127.0.0.1 -Djava.library.path=DynamoDBLocal_lib \
//	     -cp DynamoDBLocal.jar DynamoDBLocalLoopback.java -inMemory -port 8000
//
// It builds the server exactly as DynamoDB Local's own main does, sets the host of its Jetty
// connectors before starting it, and skips the telemetry set-up (no data leaves the machine).
import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("orderhub.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind");
        }
        for (Connector c : connectors) {
            ((ServerConnector) c).setHost(host);
        }
        // safeStart propagates a bind failure (port in use) instead of printing it and carrying on.
        proxy.safeStart();
        System.out.println("DynamoDB Local listening on " + host + ":" + ((ServerConnector) connectors[0]).getLocalPort());
        proxy.join();
    }
}
