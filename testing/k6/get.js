// One GET per iteration against TARGET, no think time: a closed-loop load of VUS users,
// as `k6 run` of a plain HTTP benchmark does. perfdash's verdict calibration runs it
// against testing/latency_service.py.
import http from "k6/http";

export const options = {
  vus: Number(__ENV.VUS || 4),
  duration: __ENV.DURATION || "15s",
  discardResponseBodies: true,
};

export default function () {
  http.get(__ENV.TARGET);
}
