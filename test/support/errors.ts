// The one error selection of the tests' documents: `...ErrorFields` in a payload
// union answers an error with its code and message, and a ValidationError with
// each field's. Codegen (client preset, no fragment masking) adds the fragment
// to every document that spreads it and types its fields inline, so no import
// is needed where it is used.
import { print, type FragmentDefinitionNode } from 'graphql';
import { graphql } from '../generated/index.js';

export const ErrorFields = graphql(`
  fragment ErrorFields on Error {
    code
    message
    ... on ValidationError { fieldErrors { path message } }
  }
`);

/**
 * The same selection for documents built as plain strings (no codegen), spread
 * inline where a payload union is selected: `{ __typename ${ERROR_SELECTION} }`.
 */
export const ERROR_SELECTION = `... on Error ${print((ErrorFields.definitions[0] as FragmentDefinitionNode).selectionSet).replace(/\s+/g, " ")}`;
