// The one error selection of the tests' documents: `...ErrorFields` in a payload
// union answers an error with its code and message, and a ValidationError with
// each field's. Codegen (client preset, no fragment masking) adds the fragment
// to every document that spreads it and types its fields inline, so no import
// is needed where it is used.
import { graphql } from '../generated/index.js';

export const ErrorFields = graphql(`
  fragment ErrorFields on Error {
    code
    message
    ... on ValidationError { fieldErrors { path message } }
  }
`);
