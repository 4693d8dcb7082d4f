<?xml version="1.0" encoding="UTF-8"?>
<!-- Herald: shows an RSS 2.0 or Atom 1.0 feed as a readable page when opened in a browser. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom content dc">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="rss/channel">
        <xsl:call-template name="page">
          <xsl:with-param name="lang" select="rss/channel/language"/>
          <xsl:with-param name="title" select="rss/channel/title"/>
          <xsl:with-param name="description" select="rss/channel/description"/>
          <xsl:with-param name="site" select="rss/channel/link"/>
          <xsl:with-param name="self" select="rss/channel/atom:link[@rel='self']/@href"/>
          <xsl:with-param name="kind" select="'RSS'"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="page">
          <xsl:with-param name="lang" select="atom:feed/@xml:lang"/>
          <xsl:with-param name="title" select="atom:feed/atom:title"/>
          <xsl:with-param name="description" select="atom:feed/atom:subtitle"/>
          <xsl:with-param name="site"
              select="atom:feed/atom:link[@rel='alternate' or not(@rel)][1]/@href"/>
          <xsl:with-param name="self" select="atom:feed/atom:link[@rel='self']/@href"/>
          <xsl:with-param name="kind" select="'Atom'"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="page">
    <xsl:param name="lang"/>
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="site"/>
    <xsl:param name="self"/>
    <xsl:param name="kind"/>
    <html lang="{$lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> · <xsl:value-of select="$kind"/> feed</title>
        <style>
          :root {
            --bg: #f6f5f1; --card: #ffffff; --ink: #1d1f23; --muted: #5f6570;
            --line: #e4e1d8; --accent: #c2410c; --accent-soft: #fff1e8;
          }
          @media (prefers-color-scheme: dark) {
            :root {
              --bg: #16181c; --card: #1f2227; --ink: #eceae4; --muted: #a2a7b0;
              --line: #2e3239; --accent: #fb923c; --accent-soft: #2b211b;
            }
          }
          * { box-sizing: border-box; }
          body {
            margin: 0; background: var(--bg); color: var(--ink);
            font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
                  "Helvetica Neue", Arial, sans-serif;
          }
          main { max-width: 46rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; }
          .kind {
            display: inline-flex; align-items: center; gap: .4rem;
            font-size: .8rem; font-weight: 600; letter-spacing: .06em; text-transform: uppercase;
            color: var(--accent);
          }
          .kind svg { width: 1rem; height: 1rem; }
          h1 { font-size: 2.1rem; line-height: 1.2; margin: .35rem 0 .4rem; }
          .lede { color: var(--muted); margin: 0 0 1.5rem; }
          .about {
            background: var(--accent-soft); border: 1px solid var(--line);
            border-left: 4px solid var(--accent); border-radius: 10px;
            padding: 1rem 1.2rem; margin-bottom: 2rem; font-size: .95rem;
          }
          .about p { margin: 0 0 .6rem; }
          .about p:last-child { margin-bottom: 0; }
          .url {
            display: block; overflow-wrap: anywhere; user-select: all;
            background: var(--card); border: 1px solid var(--line); border-radius: 6px;
            padding: .45rem .7rem; margin-bottom: .7rem;
            font: .9rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace;
          }
          h2 {
            font-size: .85rem; text-transform: uppercase; letter-spacing: .06em;
            color: var(--muted); margin: 0 0 .75rem;
          }
          ol { list-style: none; margin: 0; padding: 0; }
          li {
            display: flex; gap: 1.1rem; align-items: flex-start;
            background: var(--card); border: 1px solid var(--line); border-radius: 10px;
            padding: 1rem 1.2rem; margin-bottom: .8rem;
          }
          li .text { flex: 1; min-width: 0; }
          li h3 { font-size: 1.15rem; line-height: 1.35; margin: 0 0 .2rem; }
          li h3 a { color: var(--ink); text-decoration: none; }
          li h3 a:hover { color: var(--accent); text-decoration: underline; }
          time { color: var(--muted); font-size: .85rem; }
          li p { margin: .35rem 0 0; color: var(--muted); font-size: .95rem; }
          li img {
            flex: none; width: 8.5rem; height: 5.5rem; object-fit: cover;
            border-radius: 6px; background: var(--line);
          }
          .tags { margin-top: .45rem; }
          .tags span {
            display: inline-block; font-size: .75rem; color: var(--muted);
            border: 1px solid var(--line); border-radius: 999px; padding: 0 .55rem;
            margin: 0 .3rem .2rem 0;
          }
          a { color: var(--accent); }
          .empty { color: var(--muted); }
          footer { margin-top: 2rem; font-size: .85rem; color: var(--muted); }
        </style>
      </head>
      <body>
        <main>
          <span class="kind">
            <svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="5" cy="19" r="2.5"
              fill="currentColor"/><path d="M3 10a11 11 0 0 1 11 11M3 3a18 18 0 0 1 18 18"
              fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round"/></svg>
            <xsl:value-of select="$kind"/> feed
          </span>
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:if test="string($description) and $description != $title">
            <p class="lede"><xsl:value-of select="$description"/></p>
          </xsl:if>
          <section class="about">
            <p><strong>This is a web feed</strong>, also known as an <xsl:value-of select="$kind"/>
              feed. Feed readers check it for new articles, so you can follow this site without
              an account, an algorithm or an inbox full of newsletters.</p>
            <p>To subscribe, copy this address into your feed reader
              (for example NetNewsWire, Feedly, Inoreader, Thunderbird or newsboat):</p>
            <code class="url"><xsl:value-of select="$self"/></code>
            <xsl:if test="string($site)">
              <p>Or <a href="{$site}">visit the website</a>.</p>
            </xsl:if>
            <xsl:variable name="page"
                select="rss/channel/atom:link[@rel='related']/@href
                        | atom:feed/atom:link[@rel='related']/@href"/>
            <xsl:if test="string($page)">
              <p>Every format and web reader: <a href="{$page}">the feed's page</a>.</p>
            </xsl:if>
          </section>
          <h2>Recent articles</h2>
          <xsl:choose>
            <xsl:when test="rss/channel/item | atom:feed/atom:entry">
              <ol>
                <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
              </ol>
            </xsl:when>
            <xsl:otherwise>
              <p class="empty">No articles yet. Subscribe and they will reach you.</p>
            </xsl:otherwise>
          </xsl:choose>
          <footer>
            <xsl:value-of select="rss/channel/generator | atom:feed/atom:generator"/>
          </footer>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <div class="text">
        <h3><a href="{link}"><xsl:value-of select="title"/></a></h3>
        <xsl:if test="pubDate">
          <!-- RFC 822: "Sun, 03 Mar 2024 18:45:00 +0000" -->
          <!-- Herald writes dates with the site's offset, so this is the site's day and time -->
          <time>
            <xsl:value-of select="substring(pubDate, 6, 11)"/>
            <xsl:text>, </xsl:text>
            <xsl:value-of select="substring(pubDate, 18, 5)"/>
          </time>
        </xsl:if>
        <xsl:if test="string(description) and not(description = content:encoded)">
          <p>
            <xsl:call-template name="unescape">
              <xsl:with-param name="text" select="description"/>
            </xsl:call-template>
          </p>
        </xsl:if>
        <xsl:call-template name="tags">
          <xsl:with-param name="tags" select="category"/>
        </xsl:call-template>
      </div>
      <xsl:if test="enclosure[starts-with(@type, 'image/')]">
        <img src="{enclosure/@url}" alt="" loading="lazy"/>
      </xsl:if>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="date" select="atom:published | atom:updated[not(../atom:published)]"/>
    <li>
      <div class="text">
        <h3>
          <a href="{atom:link[@rel='alternate' or not(@rel)][1]/@href}">
            <xsl:value-of select="atom:title"/>
          </a>
        </h3>
        <xsl:if test="$date">
          <!-- RFC 3339: "2024-03-03T18:45:00+00:00" -->
          <time datetime="{$date}">
            <xsl:value-of select="substring($date, 9, 2)"/>
            <xsl:text> </xsl:text>
            <xsl:value-of select="substring($months, substring($date, 6, 2) * 3 - 2, 3)"/>
            <xsl:text> </xsl:text>
            <xsl:value-of select="substring($date, 1, 4)"/>
            <xsl:text>, </xsl:text>
            <xsl:value-of select="substring($date, 12, 5)"/>
          </time>
        </xsl:if>
        <xsl:if test="string(atom:summary)">
          <p><xsl:value-of select="atom:summary"/></p>
        </xsl:if>
        <xsl:call-template name="tags">
          <xsl:with-param name="tags" select="atom:category/@term"/>
        </xsl:call-template>
      </div>
      <xsl:if test="atom:link[@rel='enclosure' and starts-with(@type, 'image/')]">
        <img src="{atom:link[@rel='enclosure'][1]/@href}" alt="" loading="lazy"/>
      </xsl:if>
    </li>
  </xsl:template>

  <!-- an RSS description holds the plain-text summary HTML-escaped: show it as text again -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="text" select="$text"/>
              <xsl:with-param name="from" select="'&amp;lt;'"/>
              <xsl:with-param name="to" select="'&lt;'"/>
            </xsl:call-template>
          </xsl:with-param>
          <xsl:with-param name="from" select="'&amp;gt;'"/>
          <xsl:with-param name="to" select="'&gt;'"/>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="tags">
    <xsl:param name="tags"/>
    <xsl:if test="$tags">
      <div class="tags">
        <xsl:for-each select="$tags"><span><xsl:value-of select="."/></span></xsl:for-each>
      </div>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
