// The GraphQL explorer: GraphiQL against auditwire's /api/graphql.
// Authenticate by putting {"PRIVATE-TOKEN": "<your token>"} in the Headers pane.
(function () {
  "use strict";
  var endpoint = new URL("/api/graphql", window.location.href).href;
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: '{\n  "PRIVATE-TOKEN": ""\n}',
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      defaultQuery: "query {\n  currentUser {\n    username\n  }\n}\n",
    })
  );
})();
