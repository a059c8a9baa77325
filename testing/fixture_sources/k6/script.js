// k6 load test of testing/load_target.py: 4 virtual users share 120 GETs of /api/cart.
// TARGET is the service's base URL (testing/baseline_fixtures.py passes it with -e).
import http from 'k6/http';

export const options = {
  vus: 4,
  iterations: 120,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  thresholds: { http_req_duration: ['p(95)<15', 'p(99)<1000'] },
};

export default function () {
  http.get(`${__ENV.TARGET}/api/cart`);
}
