-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "products" (
    "upc" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "price" INTEGER NOT NULL,
    "weight" INTEGER NOT NULL,
    "category" TEXT NOT NULL,
    "popularity" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("upc")
);

-- CreateIndex
CREATE INDEX "products_category_upc_idx" ON "products"("category", "upc");

-- CreateIndex
CREATE INDEX "products_popularity_upc_idx" ON "products"("popularity" DESC, "upc");
