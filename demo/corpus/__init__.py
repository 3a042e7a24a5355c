"""The demo corpus: eight fictional outlets covering the March 2018 North Korea invitation.

Data lives next to this file: one directory per site holding ``site.json`` (address, feed,
sitemap style, robots rules and page metadata), ``template.html`` (the site's chrome) and
``pages/*.html`` (article bodies); ``claims.jsonl`` lists the demo claims. ``load`` turns
them into a ``Corpus`` that ``demo.server.CorpusServer`` serves. See docs/demo.md.
"""
