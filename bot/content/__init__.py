"""The articles: walk the content folder, read each file (front matter, fields, dates, slugs),
render Markdown, and scan the folder through the metadata cache (`library`)."""
