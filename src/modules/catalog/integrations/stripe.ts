import { action, dateTime, email, enumOf, input, integer, limit, string, trigger } from '../json-schema.js';
import type { CatalogIntegration } from '../types.js';

const currency = string('Three-letter ISO currency code in lowercase, such as usd.', { pattern: '^[a-z]{3}$' });

export const stripe: CatalogIntegration = {
  name: 'stripe',
  displayName: 'Stripe',
  description: 'Payments: customers, invoices, payments and subscriptions.',
  authTypes: ['SECRET_TEXT'],
  secretTextLabel: 'Secret key (sk_live_… or rk_live_…)',
  actions: [
    action('create_customer', 'Create customer', 'Create a Stripe customer identified by its email address.', input(
      { email: email('Customer email.'), name: string('Customer name.'), description: string('Internal note.') },
      ['email'],
    )),
    action('create_invoice', 'Create invoice', 'Create a draft invoice for a customer with one line item.', input(
      {
        customerId: string('Id of the customer (cus_…).', { pattern: '^cus_' }),
        amount: integer('Amount in the smallest currency unit (cents).', 1),
        currency,
        description: string('Line item description.'),
      },
      ['customerId', 'amount', 'currency'],
    )),
    action('list_payments', 'List payments', 'List recent payment intents, newest first.', input({
      customerId: string('Only payments of this customer.'),
      status: enumOf('Only payments in this status.', ['succeeded', 'processing', 'requires_payment_method', 'canceled']),
      createdAfter: dateTime('Only payments created at or after this time (ISO 8601).'),
      limit: limit(),
    })),
    action('refund_payment', 'Refund payment', 'Refund a payment in full or in part.', input(
      { paymentIntentId: string('Id of the payment intent (pi_…).', { pattern: '^pi_' }), amount: integer('Amount to refund in cents; the whole payment when omitted.', 1) },
      ['paymentIntentId'],
    )),
  ],
  triggers: [
    trigger('payment_succeeded', 'Payment succeeded', 'A payment intent succeeds.'),
    trigger('invoice_paid', 'Invoice paid', 'An invoice is paid.'),
    trigger('customer_created', 'Customer created', 'A customer is created.'),
    trigger('subscription_cancelled', 'Subscription cancelled', 'A subscription ends.'),
  ],
};
