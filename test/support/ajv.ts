// One Ajv setup for the catalog's schemas (inputs and outputs).
import { Ajv } from 'ajv';

// Strict mode rejects unknown keywords and unknown formats, so a typo in a schema fails here.
// ajv-formats is not a dependency: these are deliberately simple checks of the formats the catalog uses.
export function newAjv() {
  return new Ajv({
    strict: true,
    allowUnionTypes: true,
    formats: {
      email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
      uri: (value: string) => URL.canParse(value),
      date: /^\d{4}-\d{2}-\d{2}$/,
      'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    },
  });
}
