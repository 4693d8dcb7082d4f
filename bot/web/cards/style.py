"""The cards' CSS: the look of each network's post on the preview page."""

from __future__ import annotations

__all__ = ["CARD_CSS"]

CARD_CSS = """
.card{position:relative}
.card .net{position:absolute;top:-11px;right:12px}
.ph{display:flex;align-items:center;justify-content:center;text-align:center;padding:10px;
 background:repeating-linear-gradient(45deg,#eef0f3,#eef0f3 8px,#e5e8ec 8px,#e5e8ec 16px);
 color:#5b6573;font-size:12px;min-height:120px}
.ph b{display:block;font-size:13px;color:#3b4450}
.media{position:relative;border-radius:8px;overflow:hidden;background:#e5e8ec;margin:0 0 10px}
.media .ph{position:absolute;inset:0}
.media img{position:relative;display:block;width:100%;height:190px;object-fit:cover;
 color:transparent}
/* an image that cannot load: its ::before/::after (drawn only then) cover the broken icon */
.media img::before{content:"";position:absolute;inset:0;
 background:repeating-linear-gradient(45deg,#eef0f3,#eef0f3 8px,#e5e8ec 8px,#e5e8ec 16px)}
.media img::after{content:attr(data-ph);position:absolute;inset:0;display:flex;
 align-items:center;justify-content:center;text-align:center;padding:10px;color:#5b6573;
 font-size:12px;white-space:pre-line}
.small{color:#536471;font-size:13px}
.acts{display:flex;gap:22px;color:#8a96a3;font-size:13px;margin:2px 0 8px}
/* Mastodon */
.net-mastodon .avatar{border-radius:8px}
.net-mastodon .text a,.net-mastodon .tag{color:#563acc}
.cw{background:#f1f0fb;border-radius:6px;padding:8px 10px;margin:0 0 8px;font-weight:600}
.cw span{display:inline-block;margin-left:8px;padding:1px 8px;border-radius:4px;background:#dcdaf5;
 font-size:12px}
.mcard{display:flex;border:1px solid #c0cdd9;border-radius:8px;overflow:hidden;margin:0 0 10px;
 color:inherit;text-decoration:none}
.mcard .thumb{flex:none;width:120px;background:#e5e8ec}
.mcard .thumb .media{margin:0;border-radius:0;height:100%}
.mcard .thumb img{height:100%;min-height:96px}
.mcard .thumb .ph{font-size:11px;min-height:96px}
.mcard .body{padding:8px 10px;font-size:13px;min-width:0}
.mcard .body b{display:block}
/* Bluesky */
.net-bluesky .text a{color:#1185fe}
.bcard,.xcard,.lcard{display:block;border:1px solid #d4dbe2;border-radius:10px;overflow:hidden;
 color:inherit;text-decoration:none;margin:0 0 10px}
.bcard .media,.xcard .media,.lcard .media{margin:0;border-radius:0}
.bcard .cap,.lcard .cap{padding:8px 12px;font-size:13px}
.bcard .cap b,.lcard .cap b{display:block;font-size:14px}
.bcard .cap .dom{display:block;border-top:1px solid #e6ebf0;margin-top:6px;padding-top:5px;
 color:#536471}
/* X */
.net-x .text a{color:#1d9bf0}
.xcard{position:relative}
.xcard .dom{position:absolute;left:10px;bottom:10px;background:rgba(0,0,0,.75);color:#fff;
 border-radius:4px;padding:1px 6px;font-size:12px}
/* LinkedIn */
.net-linkedin .avatar{border-radius:4px}
.lcard{border-radius:0;background:#f3f6f8;border:0}
/* Discord */
.card.net-discord{background:#313338;color:#dbdee1;border-color:#1e1f22}
.net-discord .who b{color:#f2f3f5}
.net-discord .who span,.net-discord .meter{color:#949ba4}
.app{background:#5865f2;color:#fff;border-radius:3px;font-size:10px;padding:1px 4px;
 margin-left:4px;font-weight:600;vertical-align:middle}
.net-discord .text a{color:#00a8fc}
.embed{border-left:4px solid #1e1f22;background:#2b2d31;border-radius:4px;padding:8px 12px 12px;
 margin:0 0 10px;max-width:440px}
.embed .author{font-size:13px;font-weight:600;color:#f2f3f5;margin:4px 0}
.embed .title{font-weight:600;margin:4px 0}
.embed .title a{color:#00a8fc;text-decoration:none}
.embed .desc{font-size:14px;white-space:pre-wrap;margin:0 0 8px}
.embed .media{margin:8px 0 0}
.embed .foot{font-size:12px;color:#949ba4;margin-top:8px}
/* Slack */
.net-slack .avatar{border-radius:6px}
.net-slack .text a{color:#1264a3}
.blockimg{margin:0 0 10px}
.blockimg .alt{font-size:12px;color:#616061;margin:0 0 4px}
/* Telegram */
.card.net-telegram{background:#a9c9a4;background:linear-gradient(160deg,#b9d3a8,#8fbf9a)}
.net-telegram .who b{color:#1c2b1e}
.net-telegram .who span{color:#2d4a31}
.bubble{background:#fff;border-radius:12px 12px 12px 4px;padding:0 0 6px;overflow:hidden;
 margin:0 0 10px;max-width:420px;box-shadow:0 1px 1px rgba(0,0,0,.15)}
.bubble .text{padding:6px 10px 0;margin:0}
.bubble .text a{color:#168acd}
.bubble .media{border-radius:0;margin:0}
.tprev{border-left:3px solid #168acd;margin:6px 10px 0;padding:2px 8px;font-size:13px}
.tprev b{display:block;color:#168acd}
.tprev .media{margin:6px 0 2px;border-radius:6px}
.bubble .time{text-align:right;color:#8d9ba8;font-size:11px;padding:0 10px}
/* webhook, outbox */
pre.json{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:10px;font-size:12px;
 white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 10px;max-height:340px;overflow:auto}
"""
