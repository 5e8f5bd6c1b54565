/**
 * The shop's operations this client sends. Each `graphql(...)` call is typed by the generated
 * code (npm run codegen): its result and variables follow from the document and the schema, and
 * a field the schema no longer has fails the codegen run, and so the build.
 */
import { graphql } from './generated/gql.js';

/** The home page: best sellers with their reviews and who wrote them. */
export const TopProductsWithReviews = graphql(`
  query TopProductsWithReviews($first: Int!) {
    topProducts(first: $first) {
      upc
      name
      price
      inStock
      averageRating
      reviews(first: 3) {
        rating
        body
        author {
          username
        }
      }
    }
  }
`);

/** The account page: the signed-in user and their orders (needs a token with orders:read). */
export const MyOrders = graphql(`
  query MyOrders($first: Int = 10) {
    me {
      id
      username
      orders(first: $first) {
        id
        status
        total
        createdAt
        lines {
          quantity
          unitPrice
          product {
            upc
            name
          }
        }
      }
    }
  }
`);

/** Checkout (needs orders:write): the same idempotency key on a retry never places a second order. */
export const PlaceOrder = graphql(`
  mutation PlaceOrder($input: PlaceOrderInput!, $idempotencyKey: String!) {
    placeOrder(input: $input, idempotencyKey: $idempotencyKey) {
      id
      status
      total
      lines {
        quantity
        unitPrice
        product {
          name
        }
      }
    }
  }
`);
