"""Marketing controls applied to every adapter: the article as one channel posts it (UTM on the
link, the article's extra hashtags, its own text, a generated card for an article without a hero
image), alt text, language and content warning, and the article's skip/only choice."""
