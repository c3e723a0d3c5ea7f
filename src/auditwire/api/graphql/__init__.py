"""GitLab's GraphQL API: schema, types, queries, mutations, and the router serving them."""
