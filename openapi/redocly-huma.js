// Huma writes `patternDescription` into schemas next to `pattern`: the human
// wording of the pattern, which it also uses in validation messages. JSON
// Schema (OpenAPI 3.1) allows such extra keywords, and Huma's 3.0 downgrade
// keeps it too. Redocly's `struct` rule does not know it, so this plugin
// declares this one keyword instead of turning `struct` off.
module.exports = function humaKeywords() {
  const withPatternDescription = (types) => ({
    ...types,
    Schema: {
      ...types.Schema,
      properties: { ...types.Schema.properties, patternDescription: { type: 'string' } },
    },
  });
  return {
    id: 'huma',
    typeExtension: { oas3: withPatternDescription },
  };
};
