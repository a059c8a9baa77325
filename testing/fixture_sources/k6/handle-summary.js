// The same test as script.js, with handleSummary writing k6's end-of-test data as JSON.
import http from 'k6/http';

export { options } from './script.js';

export default function () {
  http.get(`${__ENV.TARGET}/api/cart`);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_JSON]: JSON.stringify(data, null, 2) };
}
