// An extra dashboard written in Jsonnet: perfdash builds it to dashboards/extra/ and
// validates it with the generated ones. It reads the series perfdash's rules record.
local datasource = { type: 'prometheus', uid: '${datasource}' };
local sli(title, service) = {
  type: 'timeseries',
  title: title,
  description: 'SLI of every %s SLO over its window; below the dashed objective line the SLO is broken.' % service,
  datasource: datasource,
  targets: [{
    refId: 'A',
    datasource: datasource,
    expr: 'slo:sli:ratio{service="%s"}' % service,
    legendFormat: '{{slo}}',
  }],
  fieldConfig: { defaults: { unit: 'percentunit' }, overrides: [] },
  options: {
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
};
{
  uid: 'pd-payments-flow',
  title: 'Payments flow',
  description: 'Checkout and ledger SLIs side by side: a payment needs both.',
  tags: ['team:payments'],
  timezone: 'browser',
  editable: true,
  schemaVersion: 39,
  time: { from: 'now-6h', to: 'now' },
  annotations: { list: [] },
  templating: { list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }] },
  panels: [
    sli('Checkout SLIs', 'checkout') { id: 1, gridPos: { h: 8, w: 12, x: 0, y: 0 } },
    sli('Ledger SLIs', 'ledger') { id: 2, gridPos: { h: 8, w: 12, x: 12, y: 0 } },
  ],
}
