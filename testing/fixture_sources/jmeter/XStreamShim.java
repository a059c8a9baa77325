// Runs Debian's JMeter 2.13 with Debian's XStream 1.4.20, which refuses every type unless
// told which to allow (XStream >= 1.4.18). JMeter 2.13 predates that, so it cannot load a
// .jmx ("ForbiddenClassException: org.apache.jmeter.save.ScriptWrapper"). This shim allows
// JMeter's own save service to read its own files, then starts JMeter as usual.
// Used only to regenerate test fixtures (testing/baseline_fixtures.py).
import com.thoughtworks.xstream.XStream;
import com.thoughtworks.xstream.security.AnyTypePermission;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

public final class XStreamShim {
    public static void main(String[] args) throws Exception {
        // The save service reads JMeter's properties when it loads: load them (and the -J
        // overrides, such as the JTL format) first, as JMeter itself will again.
        String home = System.getProperty("jmeter.home");
        org.apache.jmeter.util.JMeterUtils.setJMeterHome(home);
        org.apache.jmeter.util.JMeterUtils.loadJMeterProperties(home + "/bin/jmeter.properties");
        for (String arg : args) {
            int equals = arg.indexOf('=');
            if (arg.startsWith("-J") && equals > 2) {
                org.apache.jmeter.util.JMeterUtils.setProperty(arg.substring(2, equals), arg.substring(equals + 1));
            }
        }
        Class<?> saveService = Class.forName("org.apache.jmeter.save.SaveService");
        for (Field field : saveService.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) && XStream.class.isAssignableFrom(field.getType())) {
                field.setAccessible(true);
                ((XStream) field.get(null)).addPermission(AnyTypePermission.ANY);
            }
        }
        new org.apache.jmeter.JMeter().start(args);
    }
}
