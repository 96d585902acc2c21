"""The page's CSS and the small script that makes citation markers open their source."""

CSS = """
.qa-header h1 { margin: 0 0 .2rem 0; font-size: 1.6rem; }
.qa-header p { margin: 0; color: var(--body-text-color-subdued); }
.qa-small, .qa-small p { font-size: .85rem !important; color: var(--body-text-color-subdued); }
a.qa-cite, .qa-cite-sample {
  display: inline-block; padding: 0 .3em; margin: 0 .05em; border-radius: .35em; font-size: .85em;
  font-weight: 600; text-decoration: none !important; color: var(--color-accent) !important;
  background: var(--color-accent-soft); cursor: pointer; line-height: 1.35;
}
.qa-cite-sample { display: inline !important; }
a.qa-cite:hover { background: var(--color-accent); color: white !important; }
.qa-refusal {
  border-left: 4px solid #d97706; background: rgba(217, 119, 6, .08); padding: .5em .8em; border-radius: .4em;
}
.qa-notice { margin-top: .4em; font-size: .85em; color: var(--body-text-color-subdued); font-style: italic; }
.qa-cursor { animation: qa-blink 1s step-end infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
#qa-sources-col { max-height: 640px; overflow-y: auto; }
.qa-sources { display: flex; flex-direction: column; gap: .5rem; }
.qa-empty { color: var(--body-text-color-subdued); font-size: .9rem; line-height: 1.5; }
.qa-turn > summary { cursor: pointer; font-weight: 600; font-size: .9rem; margin-bottom: .4rem; }
.qa-turn:not(.qa-sources-current) > summary { color: var(--body-text-color-subdued); }
.qa-source {
  border: 1px solid var(--border-color-primary); border-radius: .6rem; padding: .55rem .75rem;
  margin-bottom: .5rem; background: var(--background-fill-secondary); transition: box-shadow .3s, border-color .3s;
}
.qa-source.qa-active { border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); }
.qa-source > summary { cursor: pointer; list-style: none; }
.qa-source > summary::-webkit-details-marker { display: none; }
.qa-badge { font-weight: 700; color: var(--color-accent); margin-right: .25rem; }
.qa-title { font-weight: 600; }
.qa-loc { display: block; font-size: .8rem; color: var(--body-text-color-subdued); margin-top: .15rem; }
.qa-context { margin-top: .5rem; font-size: .9rem; line-height: 1.55; white-space: pre-wrap; }
mark.qa-quote { background: #fde68a; color: #1f2937; padding: .05em .1em; border-radius: .2em; }
.qa-nosrc { font-size: .9rem; color: var(--body-text-color-subdued); }
.qa-why p { margin: .35rem 0; }
.qa-legend { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .6rem; font-size: .85em; margin: .2rem 0 .6rem; }
.qa-legend dt { font-weight: 600; }
.qa-legend dd { margin: 0; }
.qa-table { width: 100%; border-collapse: collapse; font-size: .82rem; }
.qa-table th, .qa-table td { border-bottom: 1px solid var(--border-color-primary); padding: .3rem .4rem; text-align: left; vertical-align: top; }
.qa-table tr.qa-cited { background: var(--color-accent-soft); }
.qa-preview { color: var(--body-text-color-subdued); }
.qa-chunk { border: 1px solid var(--border-color-primary); border-radius: .5rem; padding: .5rem; margin-bottom: .5rem; }
.qa-chunk-head { font-size: .8rem; font-weight: 600; margin-bottom: .3rem; }
.qa-chunk-text { font-size: .85rem; white-space: pre-wrap; }
.qa-doc-text { white-space: pre-wrap; max-height: 420px; overflow-y: auto; font-size: .85rem; }
"""

# Event delegation on the document: chat messages and the sources panel are re-rendered all the time,
# so listeners on their elements would be lost. Capture phase, so the chat's own link handling
# (which opens links in a new tab) never sees the click.
JS = """
(function () {
  if (window.__qaCites) return;
  window.__qaCites = true;
  function showSource(turn, n) {
    var el = document.getElementById('qa-src-t' + turn + '-' + n);
    if (!el) return false;
    for (var p = el; p; p = p.parentElement) { if (p.tagName === 'DETAILS') p.open = true; }
    document.querySelectorAll('.qa-source.qa-active').forEach(function (e) { e.classList.remove('qa-active'); });
    el.classList.add('qa-active');
    el.scrollIntoView({behavior: 'smooth', block: 'center'});
    return true;
  }
  window.qaShowSource = showSource;
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a.qa-cite') : null;
    if (!a) return;
    var m = (a.getAttribute('href') || '').match(/qa-src-t(\\d+)-(\\d+)/);
    ev.preventDefault();
    ev.stopPropagation();
    if (m) showSource(m[1], m[2]);
  }, true);
})();
"""
