"""Wikipedia pageviews: titles, the Wikimedia REST client, and a day range split into days."""
