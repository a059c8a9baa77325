// perfdash calls this function with checkout's generated dashboard and uses what it
// returns: here, an "On call" note on top, everything else moved down below it.
function(dashboard) dashboard {
  local noteHeight = 3,
  panels: [
    {
      id: 1000,
      type: 'text',
      title: 'On call',
      description: 'Who answers for checkout, and where to escalate.',
      gridPos: { h: noteHeight, w: 24, x: 0, y: 0 },
      options: {
        mode: 'markdown',
        content: '**Pager:** #payments-oncall &middot; **Escalation:** payments-leads &middot; '
                 + '**Status page:** https://status.example.com',
      },
    },
  ] + [
    panel { gridPos+: { y: panel.gridPos.y + noteHeight } }
    for panel in super.panels
  ],
}
